from newsrag.cli import main

main()
