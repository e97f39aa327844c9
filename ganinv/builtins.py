"""Imports every module that registers built-in components (run once by the registry)."""

# ruff: noqa: F401
import ganinv.data.folder  # datasets: folder
import ganinv.data.idx  # datasets: idx, fashion_mnist
import ganinv.data.lmdb_dataset  # datasets: lmdb
import ganinv.data.zip_archive  # datasets: zip
import ganinv.losses.adversarial  # losses: adversarial
import ganinv.losses.encoder_consistency  # losses: encoder_consistency
import ganinv.losses.identity  # losses: id_arcface, id_facenet
import ganinv.losses.lpips  # losses: lpips_alex, lpips_vgg
import ganinv.losses.mse  # losses: mse
import ganinv.losses.vgg_perceptual  # losses: vgg_perceptual
import ganinv.losses.wnorm  # losses: wnorm
import ganinv.metrics.fid  # metrics: fid
import ganinv.metrics.id_similarity  # metrics: id_similarity
import ganinv.metrics.kid  # metrics: kid
import ganinv.metrics.lpips  # metrics: lpips_alex, lpips_vgg
import ganinv.metrics.mse  # metrics: mse
import ganinv.metrics.psnr  # metrics: psnr
import ganinv.metrics.ssim  # metrics: ssim, ms_ssim
import ganinv.metrics.swd  # metrics: swd
import ganinv.metrics.timing  # metrics: seconds_per_image, peak_memory
import ganinv.stylegan2.generator  # generators: stylegan2
