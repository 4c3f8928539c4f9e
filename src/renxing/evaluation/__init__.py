"""Public evaluation (评价之尺交到公众手里): residents rate teams and partner organizations."""
