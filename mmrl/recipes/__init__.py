"""Recipes: a paper's settings as YAML, its chain of stages, and the runner of that chain.

``document`` reads a recipe file (and the line of each key) and finds shipped recipes by name;
``schema`` is the one check of sections and keys every reader applies; ``resolve`` layers
defaults, the recipe, a scale overlay and ``--set`` with the source of each value; ``chain``
parses ``chain:``; ``wiring`` says how stages pass files; ``runner`` runs them, resumably;
``report`` prints the before/after table and draws the curves.
"""
from mmrl.recipes.document import Recipe, find_recipe, load_recipe, shipped_recipes
from mmrl.recipes.runner import RunRequest, plan, run_recipe

__all__ = ["Recipe", "RunRequest", "find_recipe", "load_recipe", "plan", "run_recipe", "shipped_recipes"]
