"""Files in: read the data package's files, normalise and check every row, account for every row
read (kept or rejected), and hand a :class:`~qjlib.io.package.Package` to the analyses.

Modules, in the order a package is loaded (:func:`qjlib.io.load.load_package`): ``load``
(discovery, the steps, derived columns), ``readers`` (files, header lines), ``convert`` (cells →
dtypes), ``checks`` (row problems), ``issues`` (problem codes, rejects/findings/accounting),
``package`` (the :class:`Package`), ``cache`` (the pickled package); ``check_command`` is
``qj check``."""
