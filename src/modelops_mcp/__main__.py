from modelops_mcp.cli import main

raise SystemExit(main())
