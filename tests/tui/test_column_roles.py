"""A CSV file in the app: its columns' roles shown, one changed from the keyboard, and the next run trained with it."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.column_roles import ColumnRoles
from clf_tui.tui.widgets.data_summary import DataSummary
from tests.datasets.exports import customers, write_pandas
from tests.faults.test_app_keys import assert_counts_are_the_engines

from .conftest import COMPACT, WIDE, notifications, train, trainer_of, wait_ready, wait_until


def listed(roles: ColumnRoles) -> list[str]:
    options = roles.query_one(OptionList)
    return [" ".join(str(options.get_option_at_index(i).prompt).split()) for i in range(options.option_count)]


async def test_a_columns_role_changes_from_the_keyboard_and_the_next_run_trains_with_it(tmp_path: Path) -> None:
    csv = write_pandas(tmp_path / "churn.csv", customers(300, missing_labels=2))
    app = ClfApp(RunConfig(dataset=str(csv), target="churn", epochs=3, device="cpu", out_dir=str(tmp_path)))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        roles = app.query_one(ColumnRoles)
        assert listed(roles) == ["unused (index)", "unused customer_id", "number age", "number income", "number visits",
                                 "category plan", "category city", "yes/no smoker", "unused joined", "target churn"]
        await train(pilot)
        first = trainer_of(app)
        assert "visits" in first.data.feature_names
        await pilot.press("o")
        assert app.focused is roles.query_one(OptionList)
        await pilot.press("down", "down", "down", "down", "enter", "enter")  # visits: number, then category
        assert listed(roles)[4] == "number visits → category"
        assert any(n.title == "Column role" for n in notifications(app))
        await pilot.press("escape", "s")
        await wait_until(pilot, lambda: trainer_of(app) is not first and app.run_state in ("finished", "stopped"))
        await pilot.pause()
        trainer = trainer_of(app)
        assert trainer.config.categorical == ("visits",)
        assert [name for name in trainer.data.feature_names if name.startswith("visits")][:2] == ["visits=0.0", "visits=1.0"]  # the words as written
        assert listed(roles)[4] == "category visits"  # applied: no arrow any more
        assert_counts_are_the_engines(app)


async def test_built_in_data_has_no_roles_to_change(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        assert not app.query_one(ColumnRoles).display
        await pilot.press("o")
        assert any("Column roles belong to CSV files" in n.message for n in notifications(app))


async def test_the_positive_class_is_chosen_in_the_form(tmp_path: Path) -> None:
    csv = write_pandas(tmp_path / "churn.csv", customers(300))
    app = ClfApp(RunConfig(dataset=str(csv), target="churn", epochs=2, device="cpu", out_dir=str(tmp_path)))
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        assert trainer_of(app).data.class_names == ("stayed", "left")  # the rarer class, by default
        app.query_one("#field-positive", Input).value = "stayed"
        await train(pilot)
        assert trainer_of(app).data.class_names == ("left", "stayed")
        assert "positive class stayed" in str(app.query_one(DataSummary).render())
