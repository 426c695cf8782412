"""A form that posts back: validate, then redirect (post/redirect/get)."""

from digwebs import flash, get, post, redirect, request, url_for, view


@view("contact.html")
@get("/contact")
def form():
    return {"errors": {}, "values": {}}


@view("contact.html")
@post("/contact")
def submit():
    values = {
        "name": request.form.get("name", "").strip(),
        "message": request.form.get("message", "").strip(),
    }
    errors = {field: "This field is required." for field, value in values.items() if not value}
    if errors:
        # Show the form again, with what the visitor typed and what is missing;
        # 422 tells browsers and tests that nothing was accepted.
        return {"errors": errors, "values": values}, 422
    flash(f"Thank you, {values['name']}! Your message has been sent.")
    return redirect(url_for("contact.form"))
