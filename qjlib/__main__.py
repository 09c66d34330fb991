from qjlib.cli import main

raise SystemExit(main())
