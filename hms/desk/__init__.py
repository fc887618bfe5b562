"""The front desk: walk-ins, emergencies and the day's queue of each doctor with token numbers."""
