"""Staff tools: the HTML report (report), suggestions from unanswered questions (suggest), the
CSV export (export). Pure where they can be: figures in, text out; the command line reads the
figures from the store and writes the files."""
