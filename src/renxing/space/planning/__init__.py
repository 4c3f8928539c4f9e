"""Evacuation planning from the database: a scenario → the inputs of the pure planner → a plan.

A scenario names the hazard zones hit, the roads cut and the shelters switched on or off. From it:

- buildings inside a hit zone must evacuate (every building when the scenario says so, or when it
  hits no zone: a drill or an earthquake);
- shelters inside a hit zone are closed; candidates the scenario switches on are open;
- roads crossing a hit flood zone at least 0.5 m deep are cut, and so are the scenario's own cuts;
- residents are counted per building and mobility class from the register (living here, not
  removed; aged 65+ with normal mobility walk as "slow"; bedridden people need carriers).

The pure ``space.evacuation.plan`` assigns them optimally. A plan carries counts only, never a
person. Each plan is keyed by a fingerprint of its inputs: a saved scenario keeps its last plan and
recomputes when the register, the layers or the scenario change; unsaved scenarios share a small
in-process cache.

One module per use case: ``access`` (who plans where), ``spec`` (a scenario as plain values),
``inputs`` (the database read into the planner's inputs), ``plan``, ``whatif``, ``coverage``,
``siting`` and ``scenarios`` (saved scenarios). The pages' view-models are in ``space.views``.
"""
