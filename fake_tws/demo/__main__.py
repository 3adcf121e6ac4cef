"""`python -m fake_tws.demo`: see fake_tws.demo."""

import sys

from fake_tws.demo import main

sys.exit(main())
