"""Care for the vulnerable (定点关怀): plans, visits, carer assignment and coverage."""
