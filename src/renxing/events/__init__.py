"""The closed loop for risks: intake, routing, deadlines, escalation, feedback."""
