"""Turns the suite's JSON into a Markdown table and an SVG chart (written by
hand: no plotting dependency)."""
from xml.sax.saxutils import escape

COLS = ("stdlib", "gofutures", "loky")


def fmt_value(v, kind):
    if kind == "bytes":
        return ("%.3g B" if v < 100 else "%.0f B") % v
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if v >= scale:
            break
    x = v / scale
    return ("%.3g" % x if x < 100 else "%.0f" % x) + " " + unit


def _cell(rec, name):
    col = rec["results"].get(name)
    if col is None:
        return ""
    if col["status"] == "n/a":
        return "n/a"
    if col["status"] != "ok":
        return "FAILED (%s)" % col.get("error", "")
    text = "%s (best %s)" % (fmt_value(col["median"], rec["kind"]),
                             fmt_value(col["best"], rec["kind"]).split()[0])
    if "speedup" in col:
        text += " ×%.2f" % col["speedup"]
    return text


def fmt_ratio(x):
    """Two decimals, or two significant digits below 0.01 (a peak memory
    ratio can fall below it)."""
    return "%.2f" % x if x >= 0.01 else "%.2g" % x


def _ratio(r):
    if r is None:
        return "n/a"
    return "**%s** (%s–%s)" % (fmt_ratio(r["median"]), fmt_ratio(r["lo"]), fmt_ratio(r["hi"]))


def _target(rec):
    t = rec.get("target")
    if not t:
        return ""
    what = "≤ %.2g" % t[1] if t[0] == "ratio<=" else "speedup ≥ stdlib"
    v = rec["verdict"] or ""
    mark = "✅ " if v.startswith("met") else ("❌ " if v.startswith("missed") else "")
    return "%s %s%s" % (what, mark, v)


def is_feature_cost(rec):
    """A row that prices an opt-in feature (gofutures with it / without it),
    not gofutures against the stdlib."""
    return rec.get("pair", ["gofutures", "stdlib"]) != ["gofutures", "stdlib"]


def svg_title(rec):
    return rec["title"] + (" (%s / %s)" % tuple(rec["pair"]) if is_feature_cost(rec) else "")


def table(data):
    """The Markdown tables: gofutures (and loky) against the stdlib, then
    the cost of the opt-in features, if any ran."""
    main = [r for r in data["workloads"] if not is_feature_cost(r)]
    costs = [r for r in data["workloads"] if is_feature_cost(r)]
    lines = _main_table(data, main) if main else []
    if costs:
        lines += ["", "| opt-in feature cost | per | without | with | with / without |",
                  "|---|---|---|---|---|"]
        for rec in costs:
            with_, without = rec["pair"]
            lines.append("| %s | %s | %s: %s | %s: %s | %s |" % (
                rec["title"], rec["per"], without, _cell(rec, without),
                with_, _cell(rec, with_), _ratio(rec.get("ratio_gofutures"))))
    return "\n".join(lines)


def _main_table(data, recs):
    floors = data.get("floors", {})
    has_loky = any("loky" in r["results"] and r["results"]["loky"]["status"] != "n/a"
                   for r in recs)
    cols = [c for c in COLS if c != "loky" or has_loky]
    head = ["workload", "per"] + cols + ["gofutures/stdlib"]
    if has_loky:
        head.append("loky/stdlib")
    head += ["target", "floor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rec in recs:
        row = [rec["title"], rec["per"]] + [_cell(rec, c) for c in cols]
        row.append(_ratio(rec.get("ratio_gofutures")))
        if has_loky:
            row.append(_ratio(rec.get("ratio_loky")) if "loky" in rec["results"] else "")
        row.append(_target(rec))
        fl = rec.get("floor")
        row.append("%s (%s)" % (fmt_value(fl["value"], rec["kind"]), fl["what"]) if fl else "")
        lines.append("| " + " | ".join(row) + " |")
    if floors:
        lines.append("")
        lines.append("Floors on this machine: pipe round trip %s, thread wake-up %s, "
                     "pickle round trip of a process task %s." % (
                         fmt_value(floors["pipe_rtt"], "seconds"),
                         fmt_value(floors["thread_wake"], "seconds"),
                         fmt_value(floors["pickle_rtt"], "seconds")))
    return lines


def header(data):
    m = data["machine"]
    load = m.get("load")
    return ("%s; %s; CPython %s; %s; start method %s; load average %s at start; "
            "%d rounds per workload; `%s`" % (
                m["date"], m["cpu"], m["python"], m["platform"], m.get("start_method"),
                "%.1f" % load[0] if load else "?", data["rounds"], data["command"]))


# --- SVG -----------------------------------------------------------------

def svg(data):
    """Horizontal log-scale chart of gofutures/stdlib (and loky/stdlib) per
    workload: the bar is the median of the per-round ratios, the whisker
    their range, the tick the target; left of 1 is faster than the stdlib."""
    import math
    recs = [r for r in data["workloads"]]
    row_h, top, left, width = 26, 58, 330, 460
    lo, hi = 1 / 32, 8.0
    height = top + row_h * len(recs) + 60

    def x(v):
        v = min(max(v, lo), hi)
        return left + width * (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (left + width + 90, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">gofutures / stdlib time '
           '(median of paired rounds; whisker = range; lower is faster)</text>',
           '<text x="10" y="38" fill="#555">%s</text>' % escape(
               "CPython %s, %s, %s" % (data["machine"]["python"], data["machine"]["cpu"],
                                       data["machine"]["date"]))]
    for t in (1 / 32, 1 / 8, 1 / 2, 1, 2, 8):
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>' % (
            x(t), top - 6, x(t), height - 40, "#000" if t == 1 else "#ddd"))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (
            x(t), height - 24, "1" if t == 1 else ("%g" % t if t > 1 else "1/%d" % round(1 / t))))
    out.append('<text x="%d" y="%d" fill="#555">← faster than the stdlib · slower →</text>' % (
        left + width // 2 - 110, height - 8))
    for i, rec in enumerate(recs):
        y = top + i * row_h
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (
            left - 8, y + 14, escape(svg_title(rec))))
        bars = [("gofutures", rec.get("ratio_gofutures"), "#2a7ab9", 0)]
        if rec.get("ratio_loky"):
            bars.append(("loky", rec["ratio_loky"], "#e0a030", 11))
        for name, r, color, dy in bars:
            h = 9 if len(bars) > 1 else 14
            if r is None:
                st = rec["results"].get(name, {}).get("status", "n/a")
                out.append('<text x="%.1f" y="%d" fill="#999" text-anchor="end">%s</text>' % (
                    x(1) - 6, y + 2 + dy + h - 1, name + ": " + st if st != "ok" else ""))
                continue
            x0, x1 = sorted((x(1), x(r["median"])))
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (
                x0, y + 2 + dy, max(x1 - x0, 1), h, color))
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>' % (
                x(r["lo"]), y + 2 + dy + h / 2, x(r["hi"]), y + 2 + dy + h / 2))
            out.append('<text x="%.1f" y="%d" fill="#333">%s</text>' % (
                max(x(r["hi"]), x(1)) + 4, y + 2 + dy + h - 1, fmt_ratio(r["median"])))
        t = rec.get("target")
        if t:
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c00" '
                       'stroke-width="2"/>' % (x(t[1]), y, x(t[1]), y + row_h - 4))
    ly = height - 40 + 4
    out.append('<rect x="10" y="%d" width="10" height="10" fill="#2a7ab9"/>'
               '<text x="24" y="%d">gofutures/stdlib</text>' % (ly, ly + 9))
    out.append('<rect x="130" y="%d" width="10" height="10" fill="#e0a030"/>'
               '<text x="144" y="%d">loky/stdlib</text>' % (ly, ly + 9))
    out.append('<line x1="225" y1="%d" x2="225" y2="%d" stroke="#c00" stroke-width="2"/>'
               '<text x="231" y="%d">target</text>' % (ly - 1, ly + 11, ly + 9))
    out.append("</svg>")
    return "\n".join(out) + "\n"
