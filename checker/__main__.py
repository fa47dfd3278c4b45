from checker.commands import main

main()
