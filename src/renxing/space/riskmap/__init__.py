"""The printable community risk map (社区风险示意图): plain data in, an A3 PDF or PNG out. Pure.

The page is A3 landscape (420 × 297 mm): a title band, the map frame on the left, the legend and
the list of shelters on the right, and a footer with the emergency numbers. Everything is drawn
with matplotlib's object API (no pyplot, so it is safe inside a web process) on a local metric
plane around the community, so the scale bar and the stated scale are true at its latitude.
Chinese text needs a CJK font found through matplotlib's font manager.

Modules: ``inputs`` (the plain data drawn), ``render`` (the entry points), ``sheet`` (the map frame
on its metric plane), ``layers`` (zones, roads, buildings, shelters, sites), ``routes``
(evacuation routes and their arrows), ``labels`` (greedy label placement), ``naming`` (which
labels, in which order), ``page`` (title, north arrow, scale bar, footer), ``legend`` (the right
panel), ``style``, ``fonts``, ``shapes`` and ``symbols`` (what they all share).
"""
