"""The review web app: quality leads review flagged calls, managers read feedback, the head of sales reads KPIs."""
