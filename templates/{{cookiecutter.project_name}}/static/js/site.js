// Site-wide scripts. Served from /static/js/site.js, loaded by views/base.html.
// (The current page's navigation link is marked on the server, in base.html.)
