from ganinv.cli.main import main

raise SystemExit(main())
