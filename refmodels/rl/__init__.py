"""Reinforcement learning: PPO (``ppo.py``), TD3 (``td3.py``) and SAC (``sac.py``).

These are algorithms, not registered models: each file holds a typed, frozen
hyperparameter dataclass, the networks, the losses as small functions, and one
``train`` function that reads top to bottom. ``common.py`` holds what two or more of
them share unchanged (input checks, the replay buffer, a tiny MLP builder).
"""
