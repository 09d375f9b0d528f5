"""The core: the report as a knowledge base, and the answer to one question.

Pure, synchronous and transport-free: no Telegram, no SQL, no settings; nothing here imports
the rest of citizenbot. `knowledge` loads and checks the data; `responder.Responder.respond`
answers a question with a structured `Reply` that each door renders its own way.
"""
