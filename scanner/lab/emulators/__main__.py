import sys

from scanner.lab.emulators.host import main

sys.exit(main())
