"""The app's key bindings, in one list that the footer, the help screen and the command palette all read."""

from __future__ import annotations

from textual.binding import Binding

THRESHOLD = Binding.Group("threshold", compact=True)
PAGES = Binding.Group("page", compact=True)

BINDINGS: list[Binding] = [
    Binding("s", "start_training", "Train", id="train.start",
            tooltip="Train the configured number of epochs; again to continue. A changed configuration starts a new run."),
    Binding("s", "stop_training", "Stop", id="train.stop",
            tooltip="Stop after the current batch; the weights of the last finished epoch are kept."),
    Binding("p", "pause", "Pause", id="train.pause", tooltip="Pause training between batches."),
    Binding("p", "resume", "Resume", id="train.resume", tooltip="Resume a paused run."),
    Binding("n", "new_run", "New run", id="train.new", show=False,
            tooltip="Start over from the form's configuration: new data split, fresh weights, empty history."),
    Binding("left", "nudge_threshold(-0.01)", "Threshold −0.01", id="threshold.down", group=THRESHOLD,
            tooltip="Lower the decision threshold by 0.01."),
    Binding("right", "nudge_threshold(0.01)", "Threshold +0.01", id="threshold.up", group=THRESHOLD,
            tooltip="Raise the decision threshold by 0.01."),
    Binding("shift+left", "nudge_threshold(-0.05)", "Threshold −0.05", id="threshold.down_big", show=False,
            tooltip="Lower the decision threshold by 0.05."),
    Binding("shift+right", "nudge_threshold(0.05)", "Threshold +0.05", id="threshold.up_big", show=False,
            tooltip="Raise the decision threshold by 0.05."),
    Binding("0", "reset_threshold", "Threshold 0.5", id="threshold.reset", show=False,
            tooltip="Put the decision threshold back at 0.5."),
    Binding("f", "snap_threshold('f1')", "Max F1", id="threshold.max_f1",
            tooltip="Snap the threshold to the one with the highest F1 on the validation split."),
    Binding("j", "snap_threshold('youden')", "Youden's J", id="threshold.youden", show=False,
            tooltip="Snap the threshold to the one with the highest TPR − FPR."),
    Binding("k", "snap_to_least_cost", "Least cost", id="threshold.least_cost", show=False,
            tooltip="Snap the threshold to the one of least expected cost, for the run's costs of a false positive "
                    "and a false negative (1 : 1 unless set)."),
    Binding("r", "ask_recall", "Recall target", id="threshold.recall", show=False,
            tooltip="Type a recall; snap to the highest threshold that still reaches it."),
    Binding("left_square_bracket", "cycle_class(-1)", "Previous class", id="class.previous", show=False,
            tooltip="Multiclass: show the previous class against the rest."),
    Binding("right_square_bracket", "cycle_class(1)", "Next class", id="class.next", show=False,
            tooltip="Multiclass: show the next class against the rest."),
    Binding("ctrl+s", "save_checkpoint", "Save", id="checkpoint.save",
            tooltip="Write a checkpoint (weights, history, configuration and threshold) to a file."),
    Binding("ctrl+o", "open_checkpoint", "Open", id="checkpoint.open", show=False,
            tooltip="Load a checkpoint: its configuration, weights, history and threshold."),
    Binding("e", "edit_config", "Edit config", id="config.edit", show=False,
            tooltip="Move to the configuration form; Escape comes back."),
    Binding("o", "edit_roles", "Column roles", id="config.roles", show=False,
            tooltip="Move to a CSV file's columns, where Enter changes a column's role; Escape comes back."),
    Binding("escape", "leave_form", "Leave form", id="config.leave",
            tooltip="Leave the form so that keys drive the app again."),
    Binding("1", "show_page('config')", "Config page", id="page.config", group=PAGES,
            tooltip="Compact layout: show the configuration page."),
    Binding("2", "show_page('training')", "Training page", id="page.training", group=PAGES,
            tooltip="Compact layout: show the loss chart and the log."),
    Binding("3", "show_page('evaluation')", "Evaluation page", id="page.evaluation", group=PAGES,
            tooltip="Compact layout: show the confusion matrix, probabilities and curves."),
    Binding("4", "show_page('regions')", "Regions page", id="page.regions", group=PAGES,
            tooltip="Compact layout: show the decision regions of two-feature data."),
    Binding("comma", "step_epoch(-1)", "Earlier epoch", id="replay.back", show=False,
            tooltip="Replay: show the matrix, curves and regions of the epoch before the one shown."),
    Binding("full_stop", "step_epoch(1)", "Later epoch", id="replay.forward", show=False,
            tooltip="Replay: show the next epoch; past the latest, back to live."),
    Binding("less_than_sign", "step_epoch(-1000000)", "First epoch", id="replay.first", show=False,
            tooltip="Replay: jump to the first epoch kept."),
    Binding("greater_than_sign", "step_epoch(1000000)", "Latest epoch", id="replay.latest", show=False,
            tooltip="Leave replay: back to the latest epoch."),
    Binding("v", "cycle_chart", "Chart", id="evaluation.chart",
            tooltip="Step the evaluation's chart: ROC, precision-recall, calibration (the reliability diagram), "
                    "expected cost by threshold."),
    Binding("t", "toggle_points", "Training/validation points", id="regions.points", show=False,
            tooltip="Decision regions: draw the training or the validation points."),
    Binding("m", "model_summary", "Model", id="model.summary", show=False,
            tooltip="Each layer of the model with its output shape and parameters, the totals and the size in memory; "
                    "what it learned: a logistic regression's weights in scaled and in the data's units and its "
                    "decision boundary, every layer's weights as a heat map with its norm and gradient norm."),
    Binding("x", "export_view", "Save view as text", id="view.export", show=False,
            tooltip="Save the loss, ROC and PR charts, the confusion matrix and the decision regions, as shown now, "
                    "to a plain text file."),
    Binding("l", "find_lr", "LR finder", id="lr.find", show=False,
            tooltip="Learning-rate range test: the loss over a sweep of rates, a suggested rate, and a key to use it."),
    Binding("d", "drilldown", "Drill down", id="evaluation.drilldown", show=False,
            tooltip="The validation rows behind each cell of the confusion matrix, highest log loss first."),
    Binding("c", "compare", "Compare runs", id="compare.open", show=False,
            tooltip="Train the configuration and up to three variants over several seeds; loss curves, mean ± std "
                    "and box plots side by side."),
    Binding("L", "pick_lesson", "Lessons", id="app.lessons", show=False,
            tooltip="The course's experiments: pick one to set it up in the form (a comparison opens the compare "
                    "screen), with what to look at."),
    Binding("question_mark", "help", "Help", id="app.help", tooltip="Show every key and what it does."),
    Binding("q", "quit", "Quit", id="app.quit",
            tooltip="Quit (asks first while training, then stops it cleanly)."),
]

HELP_NOTES = """\
[b]Threshold.[/b] A validation row is predicted positive when its probability is at least the \
threshold. The keys move it without retraining: the confusion matrix, every rate, the marks on the \
ROC and PR curves and the cursor in the probability view follow at once. Max F1, Youden's J and the \
recall target pick a threshold from the validation split itself, so they flatter the model a little.

[b]Multiclass.[/b] The confusion matrix counts the most probable class. The threshold views show one \
class against the rest: [b]\\[[/b] and [b]][/b] choose the class, and the threshold keys then act on \
P(that class), which moves the one-vs-rest rates, the curve marks and the cursor (not the argmax matrix).

[b]Training.[/b] [b]s[/b] trains the form's number of epochs and, pressed again later, continues the \
same run. Changing any setting but epochs makes the next start a new run; [b]n[/b] starts over at \
any time. Save writes the threshold with the weights, and open brings both back.

[b]Decision regions.[/b] For two-feature data, each cell is shaded by the class predicted there (stronger \
where the model is surer), [b]•[/b] marks the contour at the threshold, and the validation points ([b]t[/b]: \
training) are drawn by class. Other data has no map, and the pane says why.

[b]Replay.[/b] Every epoch's evaluation is kept: [b],[/b] and [b].[/b] step back and forth, [b]<[/b] jumps \
to the first and [b]>[/b] back to the latest. The matrix, curves, probabilities and regions show that epoch; \
the loss chart marks it.

[b]Layout.[/b] From 160 x 48 every pane is visible; below that, [b]1[/b] to [b]4[/b] switch \
pages, each giving its charts the room, and [b]v[/b] steps the evaluation page's chart through ROC, PR, \
calibration and expected cost. Below 60 x 18 the screen says how large it must be. [b]e[/b] moves to \
the form (Tab between fields, Escape to leave); a refused value says why under its field. [b]ctrl+p[/b] \
searches every command.
"""
