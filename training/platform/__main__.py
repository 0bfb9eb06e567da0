"""``python -m training.platform <group> ...``: the ML commands without the ``waybill`` CLI.

The same sub-apps ``waybill`` mounts (``train``, ``models``, ``export``, ``recommend``,
``simulate``), for environments that run the training steps from a checkout.
"""

from __future__ import annotations

import typer

from training.cli import export_app, models_app, recommend_app, simulate_app, train_app

ml_cli = typer.Typer(help="Waybill ML: simulate, train, evaluate, promote, export, recommend.",
                     no_args_is_help=True)
ml_cli.add_typer(simulate_app, name="simulate")
ml_cli.add_typer(train_app, name="train")
ml_cli.add_typer(models_app, name="models")
ml_cli.add_typer(export_app, name="export")
ml_cli.add_typer(recommend_app, name="recommend")

if __name__ == "__main__":
    ml_cli()
