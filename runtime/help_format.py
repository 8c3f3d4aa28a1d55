"""argparse's help formatter, asking the terminal its width only when help is
printed. argparse makes a formatter for every argument it adds (to check the
argument), and the stock one asks the terminal at once, importing shutil:
milliseconds that every command, and every task command, would pay for help
it never prints. COLUMNS sets the width, as for the stock formatter."""

from __future__ import annotations

import argparse


class LazyWidthFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        self._asked_width = width
        self._asked_position = max_help_position
        super().__init__(prog, indent_increment, max_help_position, width=1 << 30)

    @property
    def _width(self) -> int:
        if self._asked_width is None:
            import shutil

            self._asked_width = shutil.get_terminal_size().columns - 2
        return self._asked_width

    @_width.setter
    def _width(self, value: int) -> None:
        pass  # set by the base class's __init__: the width is asked for later

    @property
    def _max_help_position(self) -> int:
        return min(self._asked_position, max(self._width - 20, self._indent_increment * 2))

    @_max_help_position.setter
    def _max_help_position(self, value: int) -> None:
        pass
