"""The optimizer race: 2-D surfaces (surfaces), the safe formula grammar (formula), the race itself
(race) and its settings (config)."""
