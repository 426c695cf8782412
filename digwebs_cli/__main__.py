from digwebs_cli.main import main

main()
