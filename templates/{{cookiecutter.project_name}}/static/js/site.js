// Site-wide scripts. Served from /static/js/site.js.
// Marks the navigation link of the current page.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("nav a")) {
    if (link.pathname === window.location.pathname) {
      link.setAttribute("aria-current", "page");
    }
  }
});
