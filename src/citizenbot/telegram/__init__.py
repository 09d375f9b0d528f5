"""The Telegram door: python-telegram-bot is imported only inside this package (a ruff rule).

common: what the features share; answers, tickets, admin, webhook: one feature each, each with
`register(application)`; messenger: the ticket workflow's Messenger on the Bot API; app: the
composition root, the only module that imports the features, and how the bot runs.
"""
