"""Drills and trainings (演练、培训): activities, sign-in, attendance and rolling coverage."""
