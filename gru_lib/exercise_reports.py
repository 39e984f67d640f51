"""The report of the exercise checkers of ``gru_lib.exercises``: a table and its findings.

A report is a header (which function, which cases), one table per GRU variant (every output, the
size of its error, pass or not) and below each table the findings in plain sentences (written by
``gru_lib.exercise_messages``). A function that could not be graded at all (a stub, a crash, a
wrong return value) gets a report with one message and no table.
"""

import html
import re
import textwrap
from dataclasses import dataclass, field

# -- the report ------------------------------------------------------------------------------


@dataclass
class Row:
    """One checked output: the largest relative error against gru_lib (and against central
    differences of the forward pass, None if not checked) and the cases where it failed."""

    name: str
    reference_error: float
    numerical_error: float | None
    passed: bool
    failing_cases: list = field(default_factory=list)


@dataclass
class Section:
    """The table and the findings of one GRU variant."""

    title: str
    rows: list
    findings: list

    @property
    def passed(self):
        return all(row.passed for row in self.rows)


@dataclass
class ExerciseReport:
    """The result of ``check_step_forward`` or ``check_step_backward``.

    ``passed`` is True when every output is right on every case. ``str(report)`` (or ending a
    notebook cell with the report) shows the table and, for a failure, what is wrong.
    ``problem`` is set, and ``sections`` empty, when the function could not be graded at all.
    """

    check: str
    function: str
    setting: str
    sections: list
    problem: str | None = None
    status: str | None = None

    @property
    def passed(self):
        return self.problem is None and all(section.passed for section in self.sections)

    def wrong_outputs(self):
        """The names of the outputs that failed, over all variants, in table order."""
        names = [row.name for s in self.sections for row in s.rows if not row.passed]
        return list(dict.fromkeys(names))

    def findings(self):
        """All the sentences below the tables (empty for a pass)."""
        return [f for s in self.sections for f in s.findings]

    def __str__(self):
        verdict = self.status or ("passed" if self.passed else "FAILED")
        lines = [f"{self.check}({self.function}): {verdict}", wrap(self.setting, bullet="")]
        if self.problem is not None:
            lines.append("")
            for line in self.problem.splitlines():
                indent = len(line) - len(line.lstrip())
                lines.append(wrap(line.lstrip(), indent="  " + " " * indent, bullet=""))
            return "\n".join(lines)
        numerical = any(row.numerical_error is not None for s in self.sections for row in s.rows)
        for section in self.sections:
            lines += ["", section.title]
            header = f"  {'output':<14}{'error vs gru_lib':>17}"
            header += f"{'vs central differences':>25}" if numerical else ""
            lines.append(header + "   ok")
            for row in section.rows:
                line = f"  {row.name:<14}{row.reference_error:>17.1e}"
                if numerical:
                    value = "" if row.numerical_error is None else f"{row.numerical_error:.1e}"
                    line += f"{value:>25}"
                line += "   " + ("yes" if row.passed else "NO")
                if row.failing_cases:
                    line += f"   (wrong only for {'; '.join(row.failing_cases)})"
                lines.append(line)
            lines += [""] + [wrap(f) for f in section.findings] if section.findings else []
        lines += ["", wrap("errors: ||yours − reference|| / (||yours|| + ||reference||), the "
                           "largest over the cases; below 1e-7 is right", bullet="")]
        return "\n".join(lines)

    def _repr_html_(self):
        color = "#1a7f37" if self.passed else "#b42318"
        first, _, rest = str(self).partition("\n")
        return (f'<pre style="line-height: 1.35"><b style="color: {color}">{html.escape(first)}'
                f"</b>\n{html.escape(rest)}</pre>")

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def wrap(paragraph, width=98, indent="  ", bullet="- "):
    """A paragraph as lines of at most ``width`` characters, indented, after ``bullet``; a short
    group in parentheses, such as a shape (B, H), is never split across lines."""
    glued = re.sub(r"\([^()]{1,16}\)", lambda m: m.group().replace(" ", "\xa0"), paragraph)
    text = textwrap.fill(glued, width, initial_indent=indent + bullet,
                         subsequent_indent=indent + " " * len(bullet), break_long_words=False,
                         break_on_hyphens=False)
    return text.replace("\xa0", " ")


