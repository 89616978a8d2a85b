from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse


def private_storage():
    """Storage for private uploads, rooted at PRIVATE_ROOT (read at call time
    so tests can override the setting)."""
    return FileSystemStorage(location=settings.PRIVATE_ROOT, base_url=None)


class Upload(models.Model):
    # Public uploads live in MEDIA_ROOT/uploads/. Private ones are written by
    # the upload view to PRIVATE_ROOT/uploads/ via private_storage(); the
    # field then only records the name relative to that root.
    file = models.FileField(upload_to="uploads/")
    private = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.file.name

    @property
    def url(self):
        if self.private:
            return reverse("download-upload", args=[self.pk])
        return self.file.url
