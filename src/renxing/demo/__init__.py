"""The deterministic demo street: five communities around a 1980s estate in Nanjing.

``build.build_demo`` writes it into an empty database; ``geo.demo_geography`` gives the
river, park and roads around it as GeoJSON.
"""
