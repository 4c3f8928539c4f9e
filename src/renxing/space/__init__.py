"""Space: hazard zones, risk points, passages, reserved land, shelters, roads and base map features."""
