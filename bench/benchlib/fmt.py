"""Markdown and number formatting shared by the report's sections."""


def noisy(share):
    return share is not None and share > 0.10


def meets(x, target):
    return round(x, 2) >= target


def status_line(ok):
    return "met" if ok else "**missed**"


def fmt_statuses(h):
    return ", ".join("%s: %d" % (k, v) for k, v in sorted(h.items())) or "-"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)
