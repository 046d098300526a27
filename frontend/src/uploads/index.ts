// The pieces a page needs to send and show pictures, voice notes and stickers.
export { checkFile, LIMITS, uploadFile, UploadCancelled, type UploadPurpose, type UploadResponse } from './upload';
export { useUpload } from './useUpload';
export { useVoiceRecorder } from './useVoiceRecorder';
export { default as ImagePicker } from './ImagePicker.vue';
export { default as ImageViewer } from './ImageViewer.vue';
export { default as VoiceRecorder } from './VoiceRecorder.vue';
export { default as VoicePlayer } from './VoicePlayer.vue';
export { default as StickerPicker } from './StickerPicker.vue';
export { default as UserAvatar } from './UserAvatar.vue';
