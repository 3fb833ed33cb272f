"Fixtures shared by the run-notebook tests."
import numpy as np
import pytest

from srkd.data import sample_images, write_image


@pytest.fixture(scope='session')
def eval_folder(tmp_path_factory):
    "Two small held-out HR images (96x96 crops of the validation photos), for a fast evaluation."
    d = tmp_path_factory.mktemp('eval')
    for name, img in sample_images('valid').items(): write_image(d/f'{name}.png', np.ascontiguousarray(img[60:156, 100:196]))
    return d
