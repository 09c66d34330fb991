"""What a notebook shows: key figures, readings (Chinese prose), charts and tables per analysis,
and the notebook helpers (:mod:`qjlib.pages.nb`). Pages read the analyses; the analyses never read
pages."""
