"""Reproducing papers: asset cards (`registry/`), recipes (`configs/reproduce/`), readiness
checks, plans with measured step times, and running a recipe through the harness.

    cards = load_registry("registry")
    recipe = load_recipe("padinv_ffhq")
    report = check_recipe(recipe, cards, Locations(assets=Path("assets"), data=Path("data")))
"""

from ganinv.reproduce.cards import AssetCard, load_card, load_registry, validate_card
from ganinv.reproduce.checks import CheckReport, Locations, check_recipe
from ganinv.reproduce.plan import Plan, make_plan
from ganinv.reproduce.recipe import Recipe, available_recipes, load_recipe
from ganinv.reproduce.runner import run_recipe
from ganinv.reproduce.timing import TimingRecord, measure_train_step

__all__ = [
    "AssetCard",
    "CheckReport",
    "Locations",
    "Plan",
    "Recipe",
    "TimingRecord",
    "available_recipes",
    "check_recipe",
    "load_card",
    "load_recipe",
    "load_registry",
    "make_plan",
    "measure_train_step",
    "run_recipe",
    "validate_card",
]
