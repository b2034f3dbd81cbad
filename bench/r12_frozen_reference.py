"""A faithful re-implementation of MindSpore r1.2's MobileNetV2 frozen-backbone fine-tune (train.py with
`--freeze_layer backbone`), the same-machine baseline for bench_trainer.py's "2x faster than r1.2".

As the recipe on CPU: ImageFolderDataset (8 workers, capped at the CPU count, shuffle) -> Decode,
Resize(256, 256), CenterCrop, Normalize, HWC2CHW, label TypeCast, shuffle(1000), batch(150,
drop_remainder=True); `extract_features` runs `Model(backbone).predict` per batch and saves
feature_<i>.npy / label_<i>.npy (full 1280x7x7 maps); the head (GlobalAvgPooling + Dense) trains with
Momentum + label-smoothed cross entropy, loading each batch's .npy files every step, and the whole
network is checkpointed every epoch. The network, the loss and the learning-rate schedule are ours (the
same layout and formulas as the recipe's src/).

Run: .venv/bin/python bench/r12_frozen_reference.py TRAIN_DIR CKPT EPOCHS WORK_DIR
(prints the recipe's lines and `total cost X s`; the bench takes the whole process's wall time).
"""

from __future__ import annotations

import os
import random
import sys
import time

WORKERS = min(8, os.cpu_count() or 1)  # the recipe's 8; MindSpore 2.x refuses more than the CPU count


def main(argv: list[str]) -> int:
    start = time.time()
    train_dir, ckpt, epochs, work = argv[0], argv[1], int(argv[2]), argv[3]
    import mindspore as ms
    import mindspore.dataset as ds
    import numpy as np
    from mindspore import Model, Tensor, nn
    from mindspore.dataset import transforms, vision

    from mnft_trainer.config import resolve_config
    from mnft_trainer.lr_schedule import get_lr
    from mnft_trainer.network import MobileNetV2, MobileNetV2Backbone, MobileNetV2Head
    from mnft_trainer.training import make_loss

    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device("CPU")
    cfg = resolve_config("CPU", {}, {"epoch_size": epochs})
    num_classes = len([d for d in os.listdir(train_dir) if os.path.isdir(os.path.join(train_dir, d))])
    backbone = MobileNetV2Backbone()
    head = MobileNetV2Head(num_classes)
    net = MobileNetV2(backbone, head)
    ms.load_param_into_net(backbone, ms.load_checkpoint(ckpt))  # load_ckpt(..., trainable=False)
    for param in backbone.get_parameters():
        param.requires_grad = False

    data = ds.ImageFolderDataset(train_dir, num_parallel_workers=WORKERS, shuffle=True)
    size = cfg.image_width
    trans = [
        vision.Decode(),
        vision.Resize((256, 256)),
        vision.CenterCrop(size),
        vision.Normalize(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255], std=[0.229 * 255, 0.224 * 255, 0.225 * 255]
        ),
        vision.HWC2CHW(),
    ]
    data = data.map(operations=trans, input_columns="image", num_parallel_workers=WORKERS)
    data = data.map(
        operations=transforms.TypeCast(ms.int32), input_columns="label", num_parallel_workers=WORKERS
    )
    data = data.shuffle(buffer_size=1000).batch(cfg.batch_size, drop_remainder=True)
    step_size = data.get_dataset_size()
    features_path = os.path.join(work, "features")
    os.makedirs(features_path, exist_ok=True)
    model = Model(backbone)
    for i, item in enumerate(data.create_dict_iterator(output_numpy=True)):
        np.save(
            os.path.join(features_path, f"feature_{i}.npy"), model.predict(Tensor(item["image"])).asnumpy()
        )
        np.save(os.path.join(features_path, f"label_{i}.npy"), item["label"])
        print(f"Complete the batch {i + 1}/{step_size}", flush=True)

    lr = Tensor(get_lr(0, cfg.lr_init, cfg.lr_end, cfg.lr_max, cfg.warmup_epochs, epochs, step_size))
    opt = nn.Momentum(head.trainable_params(), lr, cfg.momentum, cfg.weight_decay)
    network = nn.TrainOneStepCell(nn.WithLossCell(head, make_loss(num_classes, cfg.label_smooth)), opt)
    network.set_train()
    save_dir = os.path.join(work, "ckpt_0")
    os.makedirs(save_dir, exist_ok=True)
    idx_list = list(range(step_size))
    for epoch in range(epochs):
        random.shuffle(idx_list)
        epoch_start = time.time()
        losses = []
        for j in idx_list:
            feature = Tensor(np.load(os.path.join(features_path, f"feature_{j}.npy")))
            label = Tensor(np.load(os.path.join(features_path, f"label_{j}.npy")))
            losses.append(network(feature, label).asnumpy())
        cost = (time.time() - epoch_start) * 1000
        print(
            f"epoch[{epoch + 1}/{epochs}], iter[{step_size}] cost: {cost:5.3f}, "
            f"per step time: {cost / step_size:5.3f}, avg loss: {np.mean(np.array(losses)):5.3f}",
            flush=True,
        )
        if (epoch + 1) % cfg.save_checkpoint_epochs == 0:
            ms.save_checkpoint(net, os.path.join(save_dir, f"mobilenetv2_{epoch + 1}.ckpt"))
    print(f"total cost {time.time() - start:5.4f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
