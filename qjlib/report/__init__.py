"""The quarterly report (the printing press): the runner (:mod:`~qjlib.report.runner`), computing
ledgers and figures (:mod:`~qjlib.report.compute`), writing them (:mod:`~qjlib.report.outputs`),
the notebook kernels and papermill engine (:mod:`~qjlib.report.kernels`), the HTML pages
(:mod:`~qjlib.report.html`), the manifest (:mod:`~qjlib.report.manifest`), ``qj verify``
(:mod:`~qjlib.report.verify`) and refreshing the committed notebooks
(:mod:`~qjlib.report.refresh`). Scopes are :mod:`qjlib.core.scopes`."""
