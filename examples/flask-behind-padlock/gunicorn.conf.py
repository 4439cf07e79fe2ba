# gunicorn reads this from its working folder. The app listens where padlock's config sends it.
bind = "0.0.0.0:5001"
workers = 2
accesslog = "-"
# After ProxyFix: the client padlock saw, and the scheme the visitor used.
access_log_format = '%(h)s %({wsgi.url_scheme}e)s "%(r)s" %(s)s'
