"""Language: tokenizers and language models. Import a module directly."""
