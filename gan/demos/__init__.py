"""Background and theory demos: small, exact or nearly exact experiments behind the thesis's background chapters.

- `minimax`: the value function V(D, G) of Goodfellow et al. 2014 for 1-D densities, the optimal discriminator
  D* = p_data / (p_data + p_g), and C(G) = max_D V = -log 4 + 2 JSD, checked by numerical integration;
- `saturating`: the saturating and non-saturating generator losses and their gradients;
- `toy1d`: a 1-D GAN (uniform z -> x, normal data) whose snapshots reproduce the paper's distribution-view figure;
- `nce`: noise-contrastive estimation (Gutmann & Hyvärinen 2010) of a 1-D density with a learned normaliser;
- `diffusion`: DDPM (Ho et al. 2020), forward noising in closed form and a learned reverse process;
- `autoencoding`: training and evaluating the autoencoders of `gan.models.autoencoders` (AE, DAE, sparse AE, VAE);
- `figures`: the demos' figures sized for the book's text column (fonts of 9 pt and up, digits enlarged by whole
  pixels to at least 56 px on screen).

Each module also holds its notebook's tables and figures, so that a notebook is its parameters and a few calls.

Every function is seeded and runs on the CPU in seconds at the default sizes; nothing here imports notebooks.
"""
