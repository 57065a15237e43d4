"""PDF case reports and right-of-reply letters: gather a case into plain data, render Jinja
templates, print with WeasyPrint. Reports read; they never write (except recording a public
file's version through ``cases.editorial``)."""
