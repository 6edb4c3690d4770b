from cocreate.cli import main

main()
