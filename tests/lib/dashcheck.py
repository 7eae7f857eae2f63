#!/usr/bin/env python3
"""dashcheck.py DASHBOARD.json SCRAPE.txt: every metric name, label name and
label value that the dashboard's PromQL (targets, variables, legends) uses
must exist in the scrape of a running daemon. Prints one line per problem
and exits 1 if there is any; prints what it checked and exits 0 otherwise.

A small reader of the PromQL subset a dashboard uses, not a full parser: it
must rather refuse what it does not know (an unknown function, a stray
string) than pass it.
"""
import json
import re
import sys

# Labels Prometheus itself attaches to every series it scrapes (the target's
# labels): never in an exposition, always there once stored.
TARGET_LABELS = {"instance", "job"}
KEYWORDS = {"and", "or", "unless", "offset", "bool"}
GROUPING = ("by", "without", "on", "ignoring", "group_left", "group_right")
FUNCTIONS = {
    "abs", "absent", "avg", "avg_over_time", "bottomk", "ceil", "changes",
    "clamp_max", "clamp_min", "count", "count_over_time", "delta", "deriv",
    "floor", "histogram_quantile", "idelta", "increase", "irate", "max",
    "max_over_time", "min", "min_over_time", "quantile", "rate", "resets",
    "round", "scalar", "sort", "sort_desc", "stddev", "sum", "sum_over_time",
    "time", "topk", "vector", "label_values",
}
IDENT = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
MATCHER = re.compile(r'\s*(' + IDENT + r')\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def read_scrape(path):
    """name -> {label: set(values)} from the exposition text."""
    series = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"(" + IDENT + r")(\{(.*)\})?\s", line)
            if not m:
                raise SystemExit(f"dashcheck: cannot read scrape line: {line}")
            labels = series.setdefault(m.group(1), {})
            for k, v in re.findall(r'(' + IDENT + r')="((?:[^"\\]|\\.)*)"', m.group(3) or ""):
                labels.setdefault(k, set()).add(v)
    return series


def exprs_of(node, where="dashboard"):
    """Yield (where, expr, legend) for every query in the dashboard."""
    if isinstance(node, dict):
        title = node.get("title") or node.get("name") or where
        if isinstance(node.get("expr"), str):
            yield title, node["expr"], node.get("legendFormat", "")
        q = node.get("query")
        if node.get("type") == "query":
            q = q.get("query") if isinstance(q, dict) else q
            yield title, q, ""
        for k, v in node.items():
            if k != "query":
                yield from exprs_of(v, title)
    elif isinstance(node, list):
        for v in node:
            yield from exprs_of(v, where)


def parse(expr):
    """(metrics, selectors [(metric, label, op, value)], grouping labels, functions, leftovers)"""
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "VAR", expr)
    selectors, group, metrics, funcs = [], [], set(), set()

    def selector(m):
        name = m.group(1)
        body = m.group(2)
        pos = 0
        while pos < len(body) and body[pos:].strip():
            mm = MATCHER.match(body, pos)
            if not mm:
                raise ValueError(f"cannot read label matchers {{{body}}}")
            selectors.append((name, mm.group(1), mm.group(2), mm.group(3)))
            pos = mm.end()
        return " " + (name or "") + " "

    e = re.sub(r"(" + IDENT + r")?\s*\{([^}]*)\}", selector, e)
    e = re.sub(r"\[[^\]]*\]", " ", e)

    def grouping(m):
        group.extend(x.strip() for x in m.group(2).split(",") if x.strip())
        return " "

    e = re.sub(r"\b(" + "|".join(GROUPING) + r")\s*\(([^)]*)\)", grouping, e)
    # label_values(METRIC, LABEL): the last argument is a label name
    e = re.sub(r"\blabel_values\s*\(([^,()]*),\s*(" + IDENT + r")\s*\)",
               lambda m: (group.append(m.group(2)), f" label_values( {m.group(1)} ) ")[1], e)
    e = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][+-]?\d+)?(?![\w:])", " ", e)
    for m in re.finditer(r"(" + IDENT + r")(\s*\()?", e):
        word = m.group(1)
        if m.group(2):
            funcs.add(word)
        elif word not in KEYWORDS:
            metrics.add(word)
    leftover = re.sub(IDENT + r"|[()+\-*/^%<>=!,\s]", "", e)
    for name, *_ in selectors:
        if name:
            metrics.add(name)
    return metrics, selectors, group, funcs, leftover


def main():
    dash = json.load(open(sys.argv[1]))
    series = read_scrape(sys.argv[2])
    problems, n = [], 0
    for where, expr, legend in exprs_of(dash):
        n += 1
        try:
            metrics, selectors, group, funcs, leftover = parse(expr)
        except ValueError as err:
            problems.append(f"{where}: {expr}: {err}")
            continue
        if leftover:
            problems.append(f"{where}: {expr}: cannot read \"{leftover}\"")
        for f in sorted(funcs - FUNCTIONS):
            problems.append(f"{where}: {expr}: unknown function {f}")
        known = set(TARGET_LABELS)
        for m in sorted(metrics):
            if m not in series:
                problems.append(f"{where}: metric {m} is not in the scrape")
            else:
                known |= set(series[m])
        for name, label, op, value in selectors:
            have = series.get(name or "", {})
            if label in TARGET_LABELS:
                continue
            if name and name in series and label not in have:
                problems.append(f"{where}: metric {name} has no label {label}")
                continue
            if label not in known:
                problems.append(f"{where}: label {label} is on none of {sorted(metrics)}")
                continue
            values = have.get(label, set())
            wanted = []
            if op == "=":
                wanted = [value]
            elif op == "=~" and re.fullmatch(r"[\w.+-]+(\|[\w.+-]+)*", value):
                wanted = value.split("|")
            for v in wanted:
                if name and v not in values:
                    problems.append(f"{where}: {name}{{{label}=\"{v}\"}} is not in the scrape")
        for label in group + re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
            if label not in known:
                problems.append(f"{where}: label {label} is on none of {sorted(metrics)}")
    for p in problems:
        print(p)
    if not problems:
        print(f"checked {n} queries")
    return 1 if problems or not n else 0


if __name__ == "__main__":
    sys.exit(main())
