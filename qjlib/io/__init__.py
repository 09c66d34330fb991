"""Files in: read the data package's files, normalise and check every row, account for every row
read (kept or rejected), and hand a :class:`~qjlib.io.load.Package` to the analyses."""
