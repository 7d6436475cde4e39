from casekeeper.cli.main import main

main()
