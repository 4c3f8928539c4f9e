"""Partner units and social organizations (合作单位、社会组织) of a community."""
