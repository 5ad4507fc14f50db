"""CSV files written as pandas' to_csv and R's write.csv write them, from one seeded table of customers.

The table: a row index, an ID, numeric columns with missing cells (one with a stray word), a
text category, yes/no, a date, and a churn label whose classes are "None", "left" and "stayed"
(binary variants: "left" and "stayed"). The label follows a logistic model of age, income, plan
and smoker, so a classifier has something to find. ``Customers`` keeps the raw columns too, for a
scikit-learn pipeline to learn from the same rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PLANS = ("basic", "family", "premium", "student")
CITIES = ("Lyon", "Nice", "Paris")


@dataclass(frozen=True)
class Customers:
    """The raw table: numbers as floats (NaN missing), words as strings (None missing)."""

    age: np.ndarray
    income: np.ndarray
    visits: np.ndarray
    plan: list[str | None]
    city: list[str | None]
    smoker: list[str]
    joined: list[str]
    label: list[str | None]

    @property
    def n(self) -> int:
        return len(self.age)


def customers(n: int = 1200, *, seed: int = 0, three_classes: bool = False, missing_labels: int = 0) -> Customers:
    rng = np.random.default_rng(seed)
    age = rng.normal(45, 12, n).round()
    income = rng.lognormal(10.5, 0.4, n).round(-2)
    visits = rng.poisson(3, n).astype(float)
    plan = rng.choice(PLANS, n, p=[0.4, 0.3, 0.2, 0.1])
    city = rng.choice(CITIES, n)
    smoker = rng.random(n) < 0.3
    logit = (0.08 * (age - 45) - 1.2 * (np.log(income) - 10.5) + np.select(
        [plan == "basic", plan == "premium", plan == "student"], [1.0, -1.5, 0.5], 0.0) + 1.5 * smoker - 1.2)
    left = rng.random(n) < 1 / (1 + np.exp(-logit))
    label: list[str | None] = ["left" if x else "stayed" for x in left]
    if three_classes:  # a third class, named None, for the customers who never said
        label = ["None" if rng.random() < 0.25 else value for value in label]
    for at in rng.choice(n, missing_labels, replace=False):
        label[at] = None
    age[rng.choice(n, n // 20, replace=False)] = np.nan
    income[rng.choice(n, n // 25, replace=False)] = np.nan
    plans: list[str | None] = list(plan)
    for at in rng.choice(n, n // 30, replace=False):
        plans[at] = None
    joined = [f"20{rng.integers(15, 24)}-{rng.integers(1, 13):02}-{rng.integers(1, 29):02}" for _ in range(n)]
    return Customers(age, income, visits, plans, list(city), ["yes" if s else "no" for s in smoker], joined, label)


def write_pandas(path: Path, data: Customers, *, stray_word_at: int | None = 3) -> Path:
    """As ``DataFrame.to_csv(path)``: the index in a nameless first column, NaN as an empty cell, floats as
    pandas writes them (a column of integers with a missing one becomes floats: 45.0)."""
    with path.open("w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["", "customer_id", "age", "income", "visits", "plan", "city", "smoker", "joined", "churn"])
        for i in range(data.n):
            visits = "abc" if i == stray_word_at else repr(float(data.visits[i]))
            out.writerow([i, f"C{i:05}", _pandas_number(data.age[i]), _pandas_number(data.income[i]), visits,
                          data.plan[i] or "", data.city[i], data.smoker[i], data.joined[i], data.label[i] or ""])
    return path


def write_r(path: Path, data: Customers) -> Path:
    """As R's ``write.csv(df, path)``: quoted names and strings, the row names 1..n under an empty name, NA
    unquoted for a missing value."""
    with path.open("w", newline="") as handle:
        handle.write('"","customer_id","age","income","visits","plan","city","smoker","joined","churn"\n')
        for i in range(data.n):
            cells = [f'"{i + 1}"', f'"C{i:05}"', _r_number(data.age[i]), _r_number(data.income[i]),
                     _r_number(data.visits[i]), _r_text(data.plan[i]), _r_text(data.city[i]), _r_text(data.smoker[i]),
                     _r_text(data.joined[i]), _r_text(data.label[i])]
            handle.write(",".join(cells) + "\n")
    return path


def _pandas_number(value: float) -> str:
    return "" if np.isnan(value) else repr(float(value))


def _r_number(value: float) -> str:
    if np.isnan(value):
        return "NA"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _r_text(value: str | None) -> str:
    return "NA" if value is None else f'"{value}"'
