"""Small articles the team wrote for tests (fictional places and people)."""

BRIDGE = """\
---
title: Harbour bridge reopens after two-year repair
source: Millbrook Courier
author: Dana Ortiz
date: 2024-03-05
url: https://courier.example/2024/03/05/harbour-bridge-reopens
---
The Harbour Street bridge in Millbrook reopened to traffic on Tuesday after a repair that took two years and cost 48 million dollars.
City engineer Priya Raman said the new steel deck should last at least seventy years.
About 31,000 vehicles crossed the bridge each day before it closed in 2022.
Shop owners on Harbour Street said their sales had fallen by a third during the closure.
Mayor Tom Becker cut the ribbon at 9 a.m. and was the first to drive across.
"""

LIBRARY = """\
---
title: Millbrook library gets a new branch in the east end
source: Millbrook Courier
date: 2024-04-18
---
The Millbrook library board voted 5 to 2 on Thursday to open a new branch in the east end.
The branch will be built on the site of the old fire station on Elm Road.
Board chair Helen Osei said the branch would open in the spring of 2026.
The project is funded by a 6 million dollar grant from the state.
"""

FESTIVAL = """\
Riverside jazz festival draws record crowd
The Riverside jazz festival drew a record crowd of 42,000 people over three days, organisers said on Sunday.
The headline act was the saxophonist Lena Marsh, who played for two hours on the main stage.
Organisers said next year's festival would add a fourth day.
"""

ALL = {"bridge.md": BRIDGE, "library.md": LIBRARY, "festival.txt": FESTIVAL}


def write_all(folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ALL.items():
        (folder / name).write_text(text, encoding="utf-8")
