# A Flask app as the seed's author ran theirs (under gunicorn, behind one proxy), now behind padlock.
from flask import Flask, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
# padlock is exactly one proxy in front of the app, whatever is in front of padlock: trust the
# last value of each forwarded header (the client padlock saw, https, the name the visitor typed).
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


@app.route("/")
def index():
    return {
        "client": request.remote_addr,
        "scheme": request.scheme,
        "url": url_for("index", _external=True),
    }


@app.route("/dp_sim")
def dp_sim():
    # Flask's own redirects now point at https://, not at http:// and a second redirect.
    return redirect(url_for("index"))
