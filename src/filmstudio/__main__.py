from filmstudio.cli import main

raise SystemExit(main())
